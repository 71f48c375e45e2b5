import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPorts, scanSysfs } from '../../hil/ports.ts';

describe('listing serial ports', () => {
  it('never throws, with or without udev, and says how it listed', async () => {
    const r = await listPorts({ timeoutMs: 3000 });
    expect(Array.isArray(r.ports)).toBe(true);
    expect(r.note).toMatch(/serialport list|scanned \/sys\/class\/tty/);
  });

  it('the /sys + /dev fallback finds driver-backed ttys and USB nodes with their USB ids', () => {
    const root = mkdtempSync(join(tmpdir(), 'ports-'));
    const sys = join(root, 'sys');
    const dev = join(root, 'dev');
    const usbIf = join(root, 'devices', 'usb1', '1-1', '1-1:1.0');
    mkdirSync(join(usbIf, 'ttyUSB0'), { recursive: true });
    mkdirSync(join(root, 'drivers', 'ftdi_sio'), { recursive: true });
    symlinkSync(join(root, 'drivers', 'ftdi_sio'), join(usbIf, 'driver'));
    writeFileSync(join(root, 'devices', 'usb1', '1-1', 'idVendor'), '0403\n');
    writeFileSync(join(root, 'devices', 'usb1', '1-1', 'idProduct'), '6001\n');
    writeFileSync(join(root, 'devices', 'usb1', '1-1', 'manufacturer'), 'FTDI\n');
    mkdirSync(join(sys, 'ttyUSB0'), { recursive: true });
    symlinkSync(usbIf, join(sys, 'ttyUSB0', 'device'));
    mkdirSync(join(sys, 'tty1'), { recursive: true }); // virtual console: no device link, not listed
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, 'ttyACM3'), '');
    writeFileSync(join(dev, 'tty1'), '');
    const ports = scanSysfs(sys, dev);
    expect(ports.map((p) => p.path)).toEqual([join(dev, 'ttyACM3'), join(dev, 'ttyUSB0')]);
    const usb = ports.find((p) => p.path.endsWith('ttyUSB0'))!;
    expect(usb).toMatchObject({ driver: 'ftdi_sio', vendorId: '0403', productId: '6001', manufacturer: 'FTDI', source: 'sysfs' });
  });
});
