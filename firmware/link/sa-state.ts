/**
 * Where the uplink front end keeps its SDLS anti-replay state across resets. Real SDLS
 * receivers hold the last accepted ARSN of each security association in non-volatile
 * memory: a receiver that forgot it after a reboot would accept every frame an
 * eavesdropper recorded before. The firmware stays pure: the host provides the store
 * (a file or flash page on the bench, the in-memory one below in tests).
 */
export interface SaStateStore {
  /** Last accepted ARSN by SPI, as last saved; empty on a first boot. Throws if the state cannot be read. */
  load(): Readonly<Record<number, number>>;
  /**
   * Records an accepted frame's ARSN before anything it carries is used; durable when
   * it returns. If it throws, the frame is not accepted.
   */
  save(spi: number, arsn: number): void;
}

/** A store that outlives the front ends built over it (what a reboot keeps), in memory. */
export class MemorySaStateStore implements SaStateStore {
  private readonly lastArsn = new Map<number, number>();

  load(): Record<number, number> {
    return Object.fromEntries(this.lastArsn);
  }

  save(spi: number, arsn: number): void {
    this.lastArsn.set(spi, arsn);
  }
}
