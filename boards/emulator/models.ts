import type { Triple } from '../../qkd/keyrate.ts';
import { CALIBRATION_ERROR_SPREAD_REL, MONITOR_ERROR_SPREAD_REL, emittedMu, patternMeanMu, spreadError } from '../sim/source-intensity.ts';
import type { Environment, PhysicsContext, PhysicsModel } from './core.ts';

/** Photon energy at the 850 nm source wavelength, J. */
const PHOTON_J_850NM = 2.337e-19;

/**
 * apt: a two-axis fast steering mirror (first-order response with the bandwidth and
 * range of its registers) and a beacon camera that sees the ground beacon through
 * the mirror: spot = beacon direction - mirror optical angle + noise, valid inside the
 * field of view when the beacon is visible and the link is up. Signal (and with it
 * the noise-equivalent angle) follows the link loss and the exposure.
 */
export function aptModel(ctx: PhysicsContext): PhysicsModel {
  let posX = 0;
  let posY = 0;
  let spotX = 0;
  let spotY = 0;
  let valid = 0;
  let signal = 0;
  const noise = ctx.prng('camera');
  const laserNoise = ctx.prng('beacon-laser');
  return {
    reset() {
      posX = posY = spotX = spotY = 0;
      valid = signal = 0;
    },
    step(dtS) {
      const range = ctx.get('FSM_RANGE_URAD');
      if (ctx.get('FSM_ENABLE') === 1 && !ctx.faultActive('MIRROR_STUCK')) {
        const a = 1 - Math.exp(-2 * Math.PI * ctx.get('FSM_BANDWIDTH_HZ') * dtS);
        posX += (clamp(ctx.get('FSM_CMD_X_URAD'), range) - posX) * a;
        posY += (clamp(ctx.get('FSM_CMD_Y_URAD'), range) - posY) * a;
      }
      const { beacon, link } = ctx.env;
      const exposure = ctx.get('CAM_EXPOSURE_US');
      signal = beacon.visible && !link.dropout && !ctx.faultActive('CAMERA_BLIND') ? Math.min(65535, 20000 * (exposure / 1000) * 10 ** (-(link.lossDb - 30) / 10)) : 0;
      const half = ctx.get('CAM_FOV_URAD') / 2;
      const ex = beacon.xUrad - posX;
      const ey = beacon.yUrad - posY;
      if (signal >= 50 && Math.abs(ex) <= half && Math.abs(ey) <= half) {
        // Noise-equivalent angle: 0.3 urad at the reference signal, growing as 1/sqrt(signal).
        const nea = 0.3 * Math.sqrt(20000 / signal);
        spotX = ex + nea * noise.normal();
        spotY = ey + nea * noise.normal();
        valid = 1;
      } else {
        spotX = spotY = 0;
        valid = 0;
      }
    },
    read(name) {
      switch (name) {
        case 'FSM_POS_X_URAD':
          return posX;
        case 'FSM_POS_Y_URAD':
          return posY;
        case 'SPOT_X_URAD':
          return spotX;
        case 'SPOT_Y_URAD':
          return spotY;
        case 'SPOT_VALID':
          return valid;
        case 'SPOT_SIGNAL':
          return Math.round(valid ? signal : 0);
        case 'BEACON_LASER_POWER_MW':
          return ctx.get('BEACON_LASER_ENABLE') === 1 && !ctx.faultActive('BEACON_LASER_FAIL') ? 500 * (1 + 0.002 * laserNoise.normal()) : 0;
      }
      return undefined;
    },
    boardTempC() {
      return ctx.env.ambientC + 8 + (ctx.get('BEACON_LASER_ENABLE') === 1 ? 3 : 0);
    },
  };
}

/** The qsrc emulators' true output, by their environment object (see qsrcEmittedMu). */
const QSRC_OUTPUT = new WeakMap<Environment, () => Triple>();

/**
 * The intensities an in-process qsrc emulator really emits now (modulator levels times
 * its true gain): the simulated world's view of the source, which no register gives
 * (the firmware sees only the monitor). Null for another board.
 */
export function qsrcEmittedMu(emu: { readonly env: Environment; readRegister(name: string): number }): Triple | null {
  const output = QSRC_OUTPUT.get(emu.env);
  if (!output) return null;
  emu.readRegister('LASER_TEMP_C'); // steps the board's models to now (the laser temperature derates the output)
  return output();
}

/**
 * qsrc: laser temperature as a first-order thermal plant (30 s to ambient, laser
 * self-heating) held by a PI-controlled TEC with current limits and anti-windup;
 * the emitted intensities are the modulator levels times the source's true gain (its
 * calibration error, derated off the laser's 25 degC optimum, halved by
 * LASER_DEGRADED); the monitor photodiode reads their mean over the pattern times the
 * repetition rate with its own error and noise; frame counter at rate /
 * pulses-per-frame; QRNG health and bias.
 */
export function qsrcModel(ctx: PhysicsContext): PhysicsModel {
  const TAU_S = 30;
  const HEAT_C_PER_S = 0.3;
  const COOL_C_PER_S_PER_MA = 0.002;
  const KP_MA_PER_C = 1000;
  const KI_MA_PER_CS = 1000;
  const I_MAX_MA = 2000;
  let tempC = 20;
  let integ = 0;
  let currentMa = 0;
  let pulses = 0;
  let frames = 0;
  let bias = 0;
  const pdNoise = ctx.prng('monitor-pd');
  const rngNoise = ctx.prng('qrng');
  const thermalNoise = ctx.prng('thermal');
  // This source's facts: its modulator's gain error and its monitor's error.
  const calibrationErrorRel = spreadError(ctx.prng('im-calibration').next(), CALIBRATION_ERROR_SPREAD_REL);
  const monitorErrorRel = spreadError(ctx.prng('monitor-calibration').next(), MONITOR_ERROR_SPREAD_REL);
  const emitted = (): Triple => {
    if (ctx.get('LASER_ENABLE') !== 1) return [0, 0, 0];
    const derate = 1 / (1 + ((tempC - 25) / 4) ** 2);
    const degraded = ctx.faultActive('LASER_DEGRADED') ? 0.5 : 1;
    return emittedMu([ctx.get('IM_SIGNAL_MU'), ctx.get('IM_DECOY_MU'), ctx.get('IM_VACUUM_MU')], (1 + calibrationErrorRel) * derate * degraded);
  };
  QSRC_OUTPUT.set(ctx.env, emitted);
  return {
    reset() {
      tempC = ctx.env.ambientC;
      integ = currentMa = pulses = frames = 0;
      bias = 50;
    },
    step(dtS) {
      const setC = ctx.get('LASER_TEMP_SET_C');
      if (ctx.get('TEC_ENABLE') === 1 && !ctx.faultActive('TEC_FAIL')) {
        const e = tempC - setC;
        const unsat = KP_MA_PER_C * e + KI_MA_PER_CS * (integ + e * dtS);
        // Anti-windup: integrate only while the output is not pinned at its limit.
        if (Math.abs(unsat) < I_MAX_MA) integ += e * dtS;
        currentMa = Math.max(-I_MAX_MA, Math.min(I_MAX_MA, KP_MA_PER_C * e + KI_MA_PER_CS * integ));
      } else {
        currentMa = 0;
        integ = 0;
      }
      const heat = ctx.get('LASER_ENABLE') === 1 ? HEAT_C_PER_S : 0;
      tempC += ((ctx.env.ambientC - tempC) / TAU_S + heat - COOL_C_PER_S_PER_MA * currentMa) * dtS + 0.0005 * Math.sqrt(dtS) * thermalNoise.normal();
      if (ctx.get('PATTERN_ENABLE') === 1 && ctx.get('LASER_ENABLE') === 1) {
        pulses += ctx.get('REP_RATE_MHZ') * 1e6 * dtS;
        const per = ctx.get('FRAME_PULSES');
        if (pulses >= per) {
          const n = Math.floor(pulses / per);
          frames = (frames + n) >>> 0;
          pulses -= n * per;
        }
      }
      bias = ctx.faultActive('RNG_STUCK') ? 65535 : Math.max(0, 0.99 * bias + 0.01 * (60 + 40 * rngNoise.normal()));
    },
    read(name) {
      switch (name) {
        case 'LASER_TEMP_C':
          return tempC;
        case 'TEC_CURRENT_MA':
          return currentMa;
        case 'FRAME_COUNTER':
          return frames;
        case 'MONITOR_PD_UW': {
          if (ctx.get('LASER_ENABLE') !== 1) return 0;
          if (ctx.get('PATTERN_ENABLE') !== 1) return 1;
          // Default sending probabilities 0.5/0.25/0.25 (signal/decoy/vacuum).
          const outW = patternMeanMu(emitted(), [0.5, 0.25, 0.25]) * ctx.get('REP_RATE_MHZ') * 1e6 * PHOTON_J_850NM;
          return outW * 1e6 /* 60 dB tap */ * 1e6 /* W -> uW */ * (1 + monitorErrorRel) * (1 + 0.003 * pdNoise.normal());
        }
        case 'RNG_HEALTH':
          return ctx.faultActive('RNG_STUCK') || bias > 1000 ? 1 : 0;
        case 'RNG_BIAS_PPM':
          return bias;
        case 'RNG_RATE_MBPS':
          return ctx.faultActive('RNG_STUCK') ? 0 : ctx.get('RNG_RATE_MBPS');
      }
      return undefined;
    },
    boardTempC() {
      return ctx.env.ambientC + 10 + Math.abs(currentMa) / 400;
    },
  };
}

/**
 * lct: uplink received power = ground transmit power - link loss; the receiver locks
 * after 20 ms above its sensitivity and loses lock below it; bit errors at a BER that
 * falls with the margin; downlink frames counted at the downlink rate.
 */
export function lctModel(ctx: PhysicsContext): PhysicsModel {
  const GROUND_TX_DBM = 10;
  const SENSITIVITY_DBM = -45;
  const LOCK_AFTER_S = 0.02;
  const FRAME_BITS = 8920;
  let rxDbm = -100;
  let goodS = 0;
  let lock = 0;
  let errors = 0;
  let kbits = 0;
  let frames = 0;
  let berLog10 = -12;
  const powerNoise = ctx.prng('rx-power');
  const errNoise = ctx.prng('bit-errors');
  return {
    reset() {
      rxDbm = -100;
      goodS = lock = errors = kbits = frames = 0;
      berLog10 = -12;
    },
    step(dtS) {
      const on = ctx.get('LINK_ENABLE') === 1;
      const { link } = ctx.env;
      rxDbm = on && !link.dropout && !ctx.faultActive('RX_DETECTOR_FAIL') ? GROUND_TX_DBM - link.lossDb + 0.1 * powerNoise.normal() : -100;
      const margin = rxDbm - SENSITIVITY_DBM;
      berLog10 = Math.max(-12, Math.min(-1, -3 - 0.6 * margin));
      if (margin > 0) goodS += dtS;
      else goodS = 0;
      lock = goodS >= LOCK_AFTER_S ? 1 : 0;
      if (lock) {
        const bits = ctx.get('UPLINK_RATE_KBPS') * 1000 * dtS;
        kbits += bits / 1000;
        errors += errNoise.poisson(bits * 10 ** berLog10);
      }
      if (on && !ctx.faultActive('TX_FAIL')) frames += (ctx.get('DOWNLINK_RATE_KBPS') * 1000 * dtS) / FRAME_BITS;
    },
    read(name) {
      switch (name) {
        case 'UPLINK_LOCK':
          return lock;
        case 'DOWNLINK_LOCK':
          return lock && !ctx.faultActive('TX_FAIL') ? 1 : 0;
        case 'RX_POWER_DBM':
          return rxDbm;
        case 'UPLINK_BIT_ERRORS':
          return errors % 2 ** 32;
        case 'UPLINK_KBITS':
          return Math.floor(kbits) % 2 ** 32;
        case 'DOWNLINK_FRAMES':
          return Math.floor(frames) % 2 ** 32;
        case 'BER_LOG10':
          return berLog10;
      }
      return undefined;
    },
    boardTempC() {
      return ctx.env.ambientC + (ctx.get('LINK_ENABLE') === 1 ? 12 : 5);
    },
  };
}

/**
 * acs: body attitude (two small-angle axes, mrad) slews towards the requested target
 * at the slew-rate limit, then holds with jitter; idle drifts slowly. A wheel fault
 * stops slewing; a blind star tracker multiplies jitter by ten.
 */
export function acsModel(ctx: PhysicsContext): PhysicsModel {
  let attX = 0;
  let attY = 0;
  let jx = 0;
  let jy = 0;
  let slewing = 0;
  let rateMradS = 0;
  const jitter = ctx.prng('jitter');
  const drift = ctx.prng('drift');
  let driftX = 0;
  let driftY = 0;
  return {
    reset() {
      attX = attY = jx = jy = 0;
      slewing = 0;
      rateMradS = 0;
      driftX = 0.005 * drift.normal();
      driftY = 0.005 * drift.normal();
    },
    step(dtS) {
      const mode = ctx.get('POINT_MODE');
      rateMradS = 0;
      if (mode === 0) {
        attX += driftX * dtS;
        attY += driftY * dtS;
        slewing = 0;
      } else if (mode === 2) {
        const dx = ctx.get('TARGET_X_MRAD') - attX;
        const dy = ctx.get('TARGET_Y_MRAD') - attY;
        const d = Math.hypot(dx, dy);
        const maxStep = ctx.faultActive('WHEEL_FAULT') ? 0 : ctx.get('SLEW_RATE_MRAD_S') * dtS;
        if (d > 0.001) {
          const s = Math.min(d, maxStep);
          if (d > 0) {
            attX += (dx / d) * s;
            attY += (dy / d) * s;
          }
          rateMradS = s / dtS;
          slewing = 1;
        } else slewing = 0;
      } else slewing = 0;
      // Jitter: first-order filtered noise with the configured RMS (urad).
      const rms = ctx.get('JITTER_URAD') * (ctx.faultActive('STAR_TRACKER_BLIND') ? 10 : 1);
      const a = Math.exp(-dtS / 0.05);
      const k = rms * Math.sqrt(1 - a * a);
      jx = a * jx + k * jitter.normal();
      jy = a * jy + k * jitter.normal();
    },
    read(name) {
      const ax = attX + jx / 1000;
      const ay = attY + jy / 1000;
      switch (name) {
        case 'ATT_X_MRAD':
          return ax;
        case 'ATT_Y_MRAD':
          return ay;
        case 'ATT_ERR_URAD':
          return ctx.get('POINT_MODE') === 2 ? Math.hypot(ctx.get('TARGET_X_MRAD') - ax, ctx.get('TARGET_Y_MRAD') - ay) * 1000 : 0;
        case 'SLEWING':
          return slewing;
        case 'WHEEL_SPEED_RPM':
          return ctx.faultActive('WHEEL_FAULT') ? 0 : 1000 + 20 * rateMradS;
      }
      return undefined;
    },
    boardTempC() {
      return ctx.env.ambientC + 6;
    },
  };
}

function clamp(v: number, range: number): number {
  return Math.max(-range, Math.min(range, v));
}
