import { crc32c } from '../protocols/crc.ts';

/**
 * NOR-style page-programmed flash with A/B banks and a persistent active-bank option
 * byte. Erase sets whole pages to 0xFF; programming can only clear bits, so writing a
 * byte that needs a 0 -> 1 change is refused (as a real flash controller flags a
 * programming error). An operation interrupted by power loss leaves a torn result:
 * the pages or bytes done so far, exactly what a later flasher must survive.
 */
export type FlashResult = 'OK' | 'BAD_ADDRESS' | 'ALIGNMENT' | 'FLASH_NOT_ERASED';

export interface FlashGeometryLike {
  base: number;
  size: number;
  pageSize: number;
  banks: number;
}

export class FlashMemory {
  readonly data: Uint8Array;
  /** Option byte: the bank the board boots from. Survives power loss. */
  activeBank = 0;
  programOps = 0;
  eraseOps = 0;

  constructor(readonly geometry: FlashGeometryLike) {
    this.data = new Uint8Array(geometry.size).fill(0xff);
  }

  contains(address: number, length: number): boolean {
    return address >= this.geometry.base && length >= 0 && address + length <= this.geometry.base + this.geometry.size;
  }

  get bankSize(): number {
    return this.geometry.size / this.geometry.banks;
  }

  bankBase(bank: number): number {
    return this.geometry.base + bank * this.bankSize;
  }

  read(address: number, length: number): Uint8Array {
    const o = address - this.geometry.base;
    return this.data.slice(o, o + length);
  }

  crc(address: number, length: number): number {
    const o = address - this.geometry.base;
    return crc32c(this.data, o, o + length);
  }

  checkErase(address: number, length: number): FlashResult {
    if (!this.contains(address, length)) return 'BAD_ADDRESS';
    const p = this.geometry.pageSize;
    if ((address - this.geometry.base) % p !== 0 || length % p !== 0) return 'ALIGNMENT';
    return 'OK';
  }

  /** Erases `pagesDone` pages of [address, address+length) (all of them by default). */
  erase(address: number, length: number, pagesDone = length / this.geometry.pageSize): void {
    const o = address - this.geometry.base;
    this.data.fill(0xff, o, o + pagesDone * this.geometry.pageSize);
    this.eraseOps++;
  }

  checkProgram(address: number, bytes: Uint8Array): FlashResult {
    if (!this.contains(address, bytes.length)) return 'BAD_ADDRESS';
    const o = address - this.geometry.base;
    for (let i = 0; i < bytes.length; i++) {
      if ((this.data[o + i] & bytes[i]) !== bytes[i]) return 'FLASH_NOT_ERASED';
    }
    return 'OK';
  }

  /** Programs the first `bytesDone` bytes (all by default): bits can only be cleared. */
  program(address: number, bytes: Uint8Array, bytesDone = bytes.length): void {
    const o = address - this.geometry.base;
    for (let i = 0; i < bytesDone; i++) this.data[o + i] &= bytes[i];
    this.programOps++;
  }

  pagesIn(length: number): number {
    return Math.ceil(length / this.geometry.pageSize);
  }
}
