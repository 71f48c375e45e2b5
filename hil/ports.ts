import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SerialPort } from 'serialport';

export interface PortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
  driver?: string;
  /** How it was found: serialport's list (udev) or the /sys + /dev scan. */
  source: 'serialport' | 'sysfs' | 'dev';
}

/**
 * Lists serial ports. serialport's list() spawns `udevadm` on Linux; on machines
 * without udev (containers, minimal CI) that fails, so we fall back to scanning
 * /sys/class/tty (devices backed by a driver) and /dev (USB/ACM/serial nodes).
 * Never throws; `note` says which path was used and why.
 */
export async function listPorts(opts: { timeoutMs?: number; includePty?: boolean } = {}): Promise<{ ports: PortInfo[]; note: string }> {
  try {
    const list = await Promise.race([
      SerialPort.list(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${opts.timeoutMs ?? 3000} ms`)), opts.timeoutMs ?? 3000).unref()),
    ]);
    const ports: PortInfo[] = list.map((p) => ({ path: p.path, manufacturer: p.manufacturer, serialNumber: p.serialNumber, vendorId: p.vendorId, productId: p.productId, source: 'serialport' }));
    return { ports: [...ports, ...(opts.includePty ? ptys() : [])], note: 'serialport list (udev)' };
  } catch (e) {
    return { ports: [...scanSysfs(), ...(opts.includePty ? ptys() : [])], note: `serialport list unavailable (${(e as Error).message}); scanned /sys/class/tty and /dev` };
  }
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Ports with a real driver behind them in /sys/class/tty, plus USB/ACM nodes in /dev. */
export function scanSysfs(sys = '/sys/class/tty', dev = '/dev'): PortInfo[] {
  const found = new Map<string, PortInfo>();
  if (existsSync(sys)) {
    for (const name of readdirSync(sys)) {
      const devLink = join(sys, name, 'device');
      if (!existsSync(devLink)) continue;
      let driver: string | undefined;
      try {
        driver = basename(readlinkSync(join(devLink, 'driver')));
      } catch {
        driver = undefined;
      }
      // Legacy 8250 ports without hardware report an unknown port type: skip them.
      if (driver === 'serial8250' && read(join(sys, name, 'type')) === '0') continue;
      const usb = usbDeviceDir(devLink);
      const path = join(dev, name);
      found.set(path, {
        path,
        driver,
        manufacturer: usb && read(join(usb, 'manufacturer')),
        serialNumber: usb && read(join(usb, 'serial')),
        vendorId: usb && read(join(usb, 'idVendor')),
        productId: usb && read(join(usb, 'idProduct')),
        source: 'sysfs',
      });
    }
  }
  if (existsSync(dev)) {
    for (const name of readdirSync(dev)) {
      if (!/^tty(USB|ACM|AMA|XRUSB)\d+$/.test(name)) continue;
      const path = join(dev, name);
      if (!found.has(path)) found.set(path, { path, source: 'dev' });
    }
  }
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
}

/** The USB device directory (with idVendor) above a tty's device link, if it is a USB device. */
function usbDeviceDir(devLink: string): string | undefined {
  let d: string;
  try {
    d = realpathSync(devLink);
  } catch {
    return undefined;
  }
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(d, 'idVendor'))) return d;
    d = dirname(d);
  }
  return undefined;
}

function ptys(): PortInfo[] {
  try {
    return readdirSync('/dev/pts')
      .filter((n) => /^\d+$/.test(n))
      .map((n) => ({ path: `/dev/pts/${n}`, driver: 'pty', source: 'dev' as const }));
  } catch {
    return [];
  }
}
