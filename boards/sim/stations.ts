/** Optical ground stations (geodetic WGS-84 positions, rounded to ~100 m). */
export interface Station {
  name: string;
  latitudeDeg: number;
  longitudeDeg: number;
  heightKm: number;
}

export const STATIONS: Record<string, Station> = {
  beijing: { name: 'Beijing', latitudeDeg: 39.904, longitudeDeg: 116.407, heightKm: 0.05 },
  jinan: { name: 'Jinan', latitudeDeg: 36.651, longitudeDeg: 117.12, heightKm: 0.05 },
  hefei: { name: 'Hefei', latitudeDeg: 31.82, longitudeDeg: 117.227, heightKm: 0.03 },
  stellenbosch: { name: 'Stellenbosch', latitudeDeg: -33.932, longitudeDeg: 18.86, heightKm: 0.12 },
};

export function stationByName(name: string): Station {
  const s = STATIONS[name.toLowerCase()];
  if (!s) throw new Error(`unknown station '${name}' (known: ${Object.keys(STATIONS).join(', ')})`);
  return s;
}
