/**
 * Channel transmittance eta = eta_geometric * eta_atmosphere * eta_pointing * eta_receiver
 * (physics.md "Channel"). Published Jinan-1 link figures are not held, so the optics are
 * configuration values whose defaults land the loss in the 30-45 dB class.
 *
 * The geometric and pointing terms are two factors of ONE Gaussian far-field beam of
 * 1/e^2 intensity half-angle w = divergence / 2 (gaussianBeamTransmittance), so they
 * never disagree (the old top-hat geometric term was 3 dB below the Gaussian's).
 */
import type { Station } from './stations.ts';

export interface ChannelConfig {
  /** Full beam divergence of the payload telescope, 2 w (w the 1/e^2 intensity half-angle). */
  divergenceUrad: number;
  /** Receive aperture diameter of the ground telescope. */
  apertureM: number;
  /** Zenith optical depth of the atmosphere at the wavelength (clear night); per site: channelForStation. */
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

/** The channel at a station: the defaults with the site's zenith optical depth, then `overrides`. */
export function channelForStation(station: Pick<Station, 'zenithOpticalDepth'>, overrides: Partial<ChannelConfig> = {}): ChannelConfig {
  return { ...DEFAULT_CHANNEL, ...(station.zenithOpticalDepth !== undefined ? { zenithOpticalDepth: station.zenithOpticalDepth } : {}), ...overrides };
}

/**
 * Pointing jitter (1-sigma per axis, urad) as a function of pass time. The firmware's
 * fine pointing error plugs in here; the default is a steady 1 urad.
 */
export type JitterUrad = (tS: number) => number;
export const DEFAULT_JITTER: JitterUrad = () => 1.0;

/** The beam's 1/e^2 intensity half-angle w, urad. */
export function beamHalfAngleUrad(cfg: ChannelConfig): number {
  return cfg.divergenceUrad / 2;
}

/**
 * Fraction of a Gaussian far-field beam caught by a receive aperture of radius a at
 * range R whose centre is `offsetUrad` off the beam axis:
 *   (1 - exp(-2 a^2 / W^2)) * exp(-2 theta^2 / w^2),   W = w R
 * (physics.md "Channel"; the Gaussian beam's encircled power and its transverse
 * profile, e.g. Saleh & Teich, Fundamentals of Photonics, ch. 3). The offset factor
 * treats the intensity as flat across the aperture, exact for a << W (here a/W < 0.1).
 */
export function gaussianBeamTransmittance(cfg: ChannelConfig, rangeKm: number, offsetUrad: number): number {
  const w = beamHalfAngleUrad(cfg);
  const beamRadiusM = w * 1e-6 * rangeKm * 1000;
  const a = cfg.apertureM / 2;
  const caught = -Math.expm1((-2 * a * a) / (beamRadiusM * beamRadiusM));
  return caught * Math.exp(-2 * (offsetUrad / w) ** 2);
}

/** The beam's on-axis term: power into the aperture with the beam centred on it. */
export function geometricTransmittance(cfg: ChannelConfig, rangeKm: number): number {
  return gaussianBeamTransmittance(cfg, rangeKm, 0);
}

/** The beam's pointing term: the factor of a fixed offset of the aperture from the beam axis. */
export function pointingTransmittance(cfg: ChannelConfig, offsetUrad: number): number {
  const w = beamHalfAngleUrad(cfg);
  return Math.exp(-2 * (offsetUrad / w) ** 2);
}

/**
 * Mean pointing term under two-axis Gaussian jitter (sigma per axis) about a bias b:
 *   <exp(-2 |b + j|^2 / w^2)> = w^2 / (w^2 + 4 sigma^2) * exp(-2 b^2 / (w^2 + 4 sigma^2)).
 * Per axis, E[exp(-k (b + j)^2)] = exp(-k b^2 / (1 + 2 k sigma^2)) / sqrt(1 + 2 k sigma^2)
 * with k = 2 / w^2 (a Gaussian integral); the two axes multiply. With b = 0 this is
 * physics.md's 1 / (1 + 4 sigma^2 / w^2), not exp(-2 sigma^2 / w^2).
 */
export function meanPointingTransmittance(cfg: ChannelConfig, sigmaUrad: number, biasUrad = 0): number {
  const w2 = beamHalfAngleUrad(cfg) ** 2;
  const d = w2 + 4 * sigmaUrad * sigmaUrad;
  return (w2 / d) * Math.exp((-2 * biasUrad * biasUrad) / d);
}

export function atmosphericTransmittance(cfg: ChannelConfig, elevationDeg: number): number {
  const s = Math.sin((Math.max(elevationDeg, 1) * Math.PI) / 180);
  return Math.exp(-cfg.zenithOpticalDepth / s);
}

/** Channel transmittance up to (not including) the detector efficiency, with the beam `offsetUrad` off the station. */
export function channelTransmittance(cfg: ChannelConfig, rangeKm: number, elevationDeg: number, offsetUrad: number): number {
  return gaussianBeamTransmittance(cfg, rangeKm, offsetUrad) * atmosphericTransmittance(cfg, elevationDeg) * cfg.receiverTransmission;
}

export function lossDb(eta: number): number {
  return -10 * Math.log10(eta);
}
