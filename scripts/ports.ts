/**
 * npm run ports [-- --json] [-- --pty]
 * Lists serial ports (real boards, USB adapters). Works without udev: falls back to
 * scanning /sys/class/tty and /dev when serialport's list cannot run udevadm.
 */
import { parseArgs } from 'node:util';
import { listPorts } from '../hil/ports.ts';

const usage = `usage: npm run ports -- [--json] [--pty]
  --json   one JSON object { ports: [...], note }
  --pty    also list pseudo-terminals (/dev/pts/N), where emulators live`;

let args;
try {
  args = parseArgs({ options: { json: { type: 'boolean' }, pty: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
} catch (e) {
  console.error(`${(e as Error).message}\n${usage}`);
  process.exit(2);
}
if (args.values.help) {
  console.log(usage);
  process.exit(0);
}
const { ports, note } = await listPorts({ includePty: args.values.pty });
if (args.values.json) {
  console.log(JSON.stringify({ ports, note }));
} else {
  process.stderr.write(`${note}\n`);
  if (ports.length === 0) console.log('no serial ports found');
  for (const p of ports) {
    const extra = [p.manufacturer, p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : undefined, p.serialNumber ? `s/n ${p.serialNumber}` : undefined, p.driver].filter(Boolean).join('  ');
    console.log(`${p.path}${extra ? `  ${extra}` : ''}`);
  }
}
