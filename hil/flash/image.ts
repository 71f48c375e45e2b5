import { stringify } from 'yaml';
import { type ConfigImage, encodeConfigImage } from '../../protocols/config-image.ts';
import { parameterDef } from '../../protocols/dictionary/index.ts';
import type { BoardConfig, ConfigSchema } from './schema.ts';

/**
 * Config <-> image records. A parameter is one record under its dictionary id; entry i
 * of a table is one record under idBase + i (enumerated entries as their state
 * index). Float64 values keep every number exactly, so config -> image -> config is
 * lossless and image -> config -> image is byte-identical.
 */
export class ImageContentError extends Error {
  override readonly name = 'ImageContentError';
}

export function configRecords(cfg: BoardConfig, schema: ConfigSchema): Map<number, number> {
  const records = new Map<number, number>();
  for (const [name, v] of Object.entries(cfg.parameters)) {
    const p = schema.parameter(name);
    if (!p) throw new ImageContentError(`parameter ${name} is not part of the ${schema.board} config`);
    records.set(p.id, v);
  }
  for (const [name, entries] of Object.entries(cfg.tables)) {
    const t = schema.table(name);
    if (!t) throw new ImageContentError(`table ${name} is not part of the ${schema.board} config`);
    entries.forEach((e, i) => {
      const v = typeof e === 'string' ? t.states!.indexOf(e) : e;
      records.set(t.idBase + i, v);
    });
  }
  return records;
}

export function configToImage(cfg: BoardConfig, schema: ConfigSchema, generation: number): Uint8Array {
  return encodeConfigImage({ boardId: schema.boardId, configVersion: schema.configVersion, generation, params: configRecords(cfg, schema) });
}

/** Image -> config. Throws ImageContentError for records this board's layout cannot hold (unknown id, gap in a table, bad state). */
export function imageToConfig(img: ConfigImage, schema: ConfigSchema): BoardConfig {
  if (img.boardId !== schema.boardId) throw new ImageContentError(`image for board id 0x${img.boardId.toString(16)}, not ${schema.board} (0x${schema.boardId.toString(16)})`);
  if (img.configVersion !== schema.configVersion) throw new ImageContentError(`image has ${schema.board} config version ${img.configVersion}, this tool reads ${schema.configVersion}`);
  const parameters: Record<string, number> = {};
  const tables: Record<string, (string | number)[]> = {};
  const ids = new Map(schema.layout.parameters.map((p) => [p.id, p]));
  for (const [id, v] of img.params) {
    const p = ids.get(id);
    if (p) {
      parameters[p.name] = v;
      continue;
    }
    const t = schema.layout.tables.find((x) => id >= x.idBase && id < x.idBase + x.maxLength);
    if (!t) {
      let known = '';
      try {
        known = ` (dictionary parameter ${parameterDef(id).name}, not carried by ${schema.board})`;
      } catch {
        // not a dictionary id either
      }
      throw new ImageContentError(`record id ${id} is not part of the ${schema.board} config${known}`);
    }
    const list = (tables[t.name] ??= []);
    const i = id - t.idBase;
    // Records are in id order, so a table's entries arrive in slot order.
    if (i !== list.length) throw new ImageContentError(`table ${t.name} has a gap: entry ${i} after ${list.length} entries`);
    if (t.states) {
      if (!Number.isInteger(v) || v < 0 || v >= t.states.length) throw new ImageContentError(`table ${t.name}[${i}] holds ${v}, not a state index 0..${t.states.length - 1}`);
      list.push(t.states[v]);
    } else list.push(v);
  }
  return { board: schema.board, configVersion: schema.configVersion, parameters, tables };
}

/** A config as file text (YAML), parameters in layout order, the unit of each in a comment. */
export function configToYaml(cfg: BoardConfig, schema: ConfigSchema): string {
  const params: Record<string, number> = {};
  for (const p of schema.layout.parameters) if (p.name in cfg.parameters) params[p.name] = cfg.parameters[p.name];
  const doc: Record<string, unknown> = { board: cfg.board, configVersion: cfg.configVersion, parameters: params };
  if (Object.keys(cfg.tables).length) doc.tables = cfg.tables;
  return stringify(doc, { flowCollectionPadding: false, lineWidth: 120 });
}
