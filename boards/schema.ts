import { z } from 'zod';

/**
 * Schema of a board definition file (boards/definitions/<name>.yaml). A definition is
 * data: the bench, the drivers, the emulators and (later) the flasher all read the
 * same file, so a register address or a flash page size is written exactly once.
 */
const version = z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'version must look like 1.2 or 1.2.3');
const ident = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'names are UPPER_SNAKE_CASE');

const limitBand = z.object({ low: z.number().optional(), high: z.number().optional() }).strict();
export const limitsSchema = z.object({ yellow: limitBand.optional(), red: limitBand.optional() }).strict();

export const registerSchema = z
  .object({
    name: ident,
    address: z.number().int().min(0).max(0xffff),
    width: z.union([z.literal(8), z.literal(16), z.literal(32)]),
    signed: z.boolean().default(false),
    access: z.enum(['r', 'w', 'rw']),
    unit: z.string().default(''),
    /** Engineering value = raw * scale + offset. */
    scale: z.number().positive().default(1),
    offset: z.number().default(0),
    /** Engineering range a write must respect (the board answers OUT_OF_RANGE otherwise). */
    min: z.number().optional(),
    max: z.number().optional(),
    /** Reset value in engineering units. */
    reset: z.number().default(0),
    limits: limitsSchema.optional(),
    description: z.string().min(1),
  })
  .strict();

export const memoryRegionSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/),
    kind: z.enum(['flash', 'ram']),
    base: z.number().int().min(0).max(0xffffffff),
    size: z.number().int().positive(),
    /** Program/erase unit of a flash region. */
    pageSize: z.number().int().positive().optional(),
    /** Flash split into equal banks (A/B); the ACTIVE_BANK register picks the boot bank. */
    banks: z.number().int().min(1).max(2).optional(),
    /** Time to program one page / erase one page (emulators model both). */
    pageProgramMs: z.number().nonnegative().optional(),
    pageEraseMs: z.number().nonnegative().optional(),
    description: z.string().min(1),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.kind === 'flash') {
      if (!m.pageSize) ctx.addIssue({ code: 'custom', message: 'a flash region needs pageSize', path: ['pageSize'] });
      else if (m.size % (m.pageSize * (m.banks ?? 1)) !== 0) ctx.addIssue({ code: 'custom', message: 'size must be a whole number of pages per bank', path: ['size'] });
    }
  });

export const boardDefinitionSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]*$/),
    title: z.string().min(1),
    identity: z.object({ boardId: z.number().int().min(0).max(0xffff), hwVersion: version, fwVersion: version }).strict(),
    serial: z
      .object({
        baud: z.number().int().positive(),
        dataBits: z.literal(8).default(8),
        parity: z.enum(['none', 'even', 'odd']).default('none'),
        stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
      })
      .strict(),
    link: z.object({ timeoutMs: z.number().int().positive(), retries: z.number().int().min(0).max(10) }).strict(),
    registers: z.array(registerSchema).min(1),
    memory: z.array(memoryRegionSchema),
    telemetry: z.object({ periodMs: z.number().int().positive(), items: z.array(ident).min(1).max(64) }).strict(),
    faults: z.array(z.object({ id: z.number().int().min(1).max(255), name: ident, description: z.string().min(1) }).strict()),
  })
  .strict()
  .superRefine((d, ctx) => {
    const names = new Set<string>();
    const addrs = new Set<number>();
    d.registers.forEach((r, i) => {
      if (names.has(r.name)) ctx.addIssue({ code: 'custom', message: `duplicate register name ${r.name}`, path: ['registers', i, 'name'] });
      if (addrs.has(r.address)) ctx.addIssue({ code: 'custom', message: `duplicate register address 0x${r.address.toString(16)}`, path: ['registers', i, 'address'] });
      names.add(r.name);
      addrs.add(r.address);
    });
    d.telemetry.items.forEach((item, i) => {
      const reg = d.registers.find((r) => r.name === item);
      if (!reg) ctx.addIssue({ code: 'custom', message: `telemetry item ${item} is not a register`, path: ['telemetry', 'items', i] });
      else if (reg.access === 'w') ctx.addIssue({ code: 'custom', message: `telemetry item ${item} is write-only`, path: ['telemetry', 'items', i] });
    });
    const sorted = [...d.memory].sort((a, b) => a.base - b.base);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].base < sorted[i - 1].base + sorted[i - 1].size) ctx.addIssue({ code: 'custom', message: `memory regions ${sorted[i - 1].name} and ${sorted[i].name} overlap`, path: ['memory'] });
    }
    const faultIds = new Set<number>();
    d.faults.forEach((f, i) => {
      if (faultIds.has(f.id)) ctx.addIssue({ code: 'custom', message: `duplicate fault id ${f.id}`, path: ['faults', i, 'id'] });
      faultIds.add(f.id);
    });
  });

export type BoardDefinition = z.infer<typeof boardDefinitionSchema>;
export type RegisterDef = z.infer<typeof registerSchema>;
export type MemoryRegionDef = z.infer<typeof memoryRegionSchema>;
export type LimitsDef = z.infer<typeof limitsSchema>;
