// binary-parser ships typings but its package "exports" map does not name them for
// ESM imports; point TypeScript at them.
declare module 'binary-parser' {
  export * from 'binary-parser/dist/binary_parser.js';
}
