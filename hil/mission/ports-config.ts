import type { BankName, ConfigStorePort } from '../../firmware/hal.ts';

/** The payload controller's own configuration flash: two banks, erased to 0xFF. */
export class ControllerFlash implements ConfigStorePort {
  /** The bank contents (tests corrupt them in place to exercise BOOT's fallback). */
  readonly banks: Record<BankName, Uint8Array>;
  private active: BankName = 'A';

  constructor(readonly sizeBytes = 4096) {
    this.banks = { A: new Uint8Array(sizeBytes).fill(0xff), B: new Uint8Array(sizeBytes).fill(0xff) };
  }

  bankSizeBytes(): number {
    return this.sizeBytes;
  }

  readBank(bank: BankName): Uint8Array {
    return this.banks[bank].slice();
  }

  writeBank(bank: BankName, offsetBytes: number, data: Uint8Array): void {
    if (offsetBytes < 0 || offsetBytes + data.length > this.sizeBytes) throw new RangeError(`write ${offsetBytes}+${data.length} outside bank of ${this.sizeBytes} octets`);
    this.banks[bank].set(data, offsetBytes);
  }

  activeBank(): BankName {
    return this.active;
  }

  selectBank(bank: BankName): void {
    this.active = bank;
  }

  /** What a flashing session leaves: the bank erased, the image at offset 0, the bank selected. */
  flash(bank: BankName, image: Uint8Array): void {
    if (image.length > this.sizeBytes) throw new RangeError(`image of ${image.length} octets does not fit a ${this.sizeBytes}-octet bank`);
    this.banks[bank].fill(0xff);
    this.banks[bank].set(image, 0);
    this.active = bank;
  }
}
