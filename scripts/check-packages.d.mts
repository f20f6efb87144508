/** The packages we publish (directory names under packages/), in dependency order. */
export const PUBLISHED: string[];
/** `npm pack` of one package into `dest`; returns the tarball's path. */
export function pack(name: string, dest: string): string;
/** Packs every published package into `dest`; returns `{ name: tarballPath }`. */
export function packAll(dest: string): Record<string, string>;
/** Bare module specifiers a compiled ES module imports. */
export function bareImports(source: string): string[];
/** Packs and checks every published package; returns the problems found (empty = publishable). `keep` keeps the tarballs there. */
export function checkPackages(opts?: { keep?: string }): string[];
