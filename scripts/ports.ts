/**
 * npm run ports [-- --json] [-- --pty]
 * Lists serial ports (real boards, USB adapters). Works without udev: falls back to
 * scanning /sys/class/tty and /dev when serialport's list cannot run udevadm.
 */
import { listPorts } from '../hil/ports.ts';
import { parseCli } from './cli.ts';

const usage = `usage: npm run ports -- [--json] [--pty]
  --json   one JSON object { ports: [...], note }
  --pty    also list pseudo-terminals (/dev/pts/N), where emulators live`;

const args = parseCli({ json: { type: 'boolean' }, pty: { type: 'boolean' } }, usage, false);
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
