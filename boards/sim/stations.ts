/**
 * Optical ground stations (geodetic WGS-84 positions, rounded to ~100 m; height above
 * the ellipsoid in km).
 *
 * Sources: the stations the Jinan-1 and Micius missions name (Jinan-1: Nature 640, 47
 * (2025): Jinan, Hefei, Beijing, Stellenbosch "and others"; Micius: Nature 549, 43
 * (2017)). /work/shared/reference gives no coordinates, so the positions are those of the
 * sites: the city centres for the portable 100 kg stations (Beijing, Jinan, Hefei,
 * Wuhan, Shanghai), Stellenbosch University for South Africa, and the Nanshan
 * observatory of the Xinjiang Astronomical Observatory near Urumqi (43.47 N, 87.18 E,
 * 2.08 km), a Micius ground station. Replace them with surveyed positions for a real
 * campaign.
 *
 * Every station here has its best night pass of the example TLE in the published class
 * (test/qkd/pass.test.ts): above 30 deg, 30-45 dB of loss from 15 deg up. A station whose
 * pass fell outside would be left out with a comment saying why, not fitted.
 */
export interface Station {
  name: string;
  latitudeDeg: number;
  longitudeDeg: number;
  heightKm: number;
  /**
   * Zenith optical depth of a clear night at the ~850 nm downlink (default: the channel's
   * 0.12). Assumed class values: Rayleigh about 0.016 at sea level (Bucholtz, Appl. Opt.
   * 34, 2765 (1995)), scaled by pressure at altitude, plus a clear-night aerosol depth at
   * 870 nm: about 0.1 for the eastern Chinese cities (AERONET Beijing/Xianghe class on
   * clear days), about 0.05 for Stellenbosch's dry, clean Western Cape sky and about 0.04
   * for the 2 km Nanshan site. Replace with site measurements for a real campaign.
   */
  zenithOpticalDepth?: number;
  /**
   * Moonless zenith sky brightness at the wavelength relative to a dark site's (1 = dark
   * observatory). Assumed: the light-pollution atlas (Falchi et al., Sci. Adv. 2,
   * e1600377 (2016)) puts megacity skies 10-40x above natural in V; at 850 nm behind a
   * narrow filter the excess is smaller (street lighting emits little near-infrared), so
   * 4x for the big cities, 3x for the smaller ones, 2x for a university town.
   */
  skyBrightness?: number;
}

export const STATIONS: Record<string, Station> = {
  beijing: { name: 'Beijing', latitudeDeg: 39.904, longitudeDeg: 116.407, heightKm: 0.05, zenithOpticalDepth: 0.12, skyBrightness: 4 },
  jinan: { name: 'Jinan', latitudeDeg: 36.651, longitudeDeg: 117.12, heightKm: 0.05, zenithOpticalDepth: 0.12, skyBrightness: 3 },
  hefei: { name: 'Hefei', latitudeDeg: 31.82, longitudeDeg: 117.227, heightKm: 0.03, zenithOpticalDepth: 0.12, skyBrightness: 3 },
  // Nanshan observatory (Xinjiang Astronomical Observatory), 70 km south-west of Urumqi, 2080 m up.
  nanshan: { name: 'Nanshan', latitudeDeg: 43.47, longitudeDeg: 87.18, heightKm: 2.08, zenithOpticalDepth: 0.05, skyBrightness: 1 },
  wuhan: { name: 'Wuhan', latitudeDeg: 30.59, longitudeDeg: 114.31, heightKm: 0.03, zenithOpticalDepth: 0.12, skyBrightness: 4 },
  shanghai: { name: 'Shanghai', latitudeDeg: 31.23, longitudeDeg: 121.47, heightKm: 0.01, zenithOpticalDepth: 0.12, skyBrightness: 4 },
  stellenbosch: { name: 'Stellenbosch', latitudeDeg: -33.932, longitudeDeg: 18.86, heightKm: 0.12, zenithOpticalDepth: 0.07, skyBrightness: 2 },
};

export function stationByName(name: string): Station {
  const s = STATIONS[name.toLowerCase()];
  if (!s) throw new Error(`unknown station '${name}' (known: ${Object.keys(STATIONS).join(', ')})`);
  return s;
}
