/**
 * Channel transmittance eta = eta_geometric * eta_atmosphere * eta_pointing * eta_receiver
 * (physics.md). Published Jinan-1 link figures are not held, so the optics are
 * configuration values whose defaults land the loss in the 30-45 dB class.
 */

export interface ChannelConfig {
  /** Full beam divergence of the payload telescope. */
  divergenceUrad: number;
  /** Receive aperture diameter of the ground telescope. */
  apertureM: number;
  /** Zenith optical depth of the atmosphere at the wavelength (clear night). */
  zenithOpticalDepth: number;
  /** Transmission of the ground optics up to the detectors. */
  receiverTransmission: number;
}

export const DEFAULT_CHANNEL: ChannelConfig = {
  divergenceUrad: 12,
  apertureM: 0.3,
  zenithOpticalDepth: 0.12,
  receiverTransmission: 0.4,
};

/**
 * Pointing jitter (1-sigma, urad) as a function of pass time. The firmware's fine
 * pointing error plugs in here; the default is a steady 1 urad.
 */
export type JitterUrad = (tS: number) => number;
export const DEFAULT_JITTER: JitterUrad = () => 1.0;

export function geometricTransmittance(cfg: ChannelConfig, rangeKm: number): number {
  const beamM = cfg.divergenceUrad * 1e-6 * rangeKm * 1000;
  return Math.min(1, (cfg.apertureM / beamM) ** 2);
}

export function atmosphericTransmittance(cfg: ChannelConfig, elevationDeg: number): number {
  const s = Math.sin((Math.max(elevationDeg, 1) * Math.PI) / 180);
  return Math.exp(-cfg.zenithOpticalDepth / s);
}

/** Gaussian mispointing loss relative to the beam half-angle w = divergence / 2. */
export function pointingTransmittance(cfg: ChannelConfig, jitterUrad: number): number {
  const w = cfg.divergenceUrad / 2;
  return Math.exp(-2 * (jitterUrad / w) ** 2);
}

/** Channel transmittance up to (not including) the detector efficiency. */
export function channelTransmittance(cfg: ChannelConfig, rangeKm: number, elevationDeg: number, jitterUrad: number): number {
  return (
    geometricTransmittance(cfg, rangeKm) *
    atmosphericTransmittance(cfg, elevationDeg) *
    pointingTransmittance(cfg, jitterUrad) *
    cfg.receiverTransmission
  );
}

export function lossDb(eta: number): number {
  return -10 * Math.log10(eta);
}
