// The engine's layering, enforced in `npm run lint` (docs/design.md draws it):
//   cli → index.ts (createEngine) → modules → http/ws helpers, core, ports → @utd-stream/protocol
// Imports point down; nothing imports up, and there is no circle. Type-only imports count too.
const SRC = "^packages/engine/src";
const PORTS = `${SRC}/(store|bus|media|files|push)/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import circle, type-only ones included: they hide which part is built first.",
      from: {},
      to: { circular: true },
    },
    {
      name: "core-is-the-floor",
      severity: "error",
      comment:
        "core/ (config, errors, caller, validation, clock, ids, rate limits, outbox) imports nothing else of the engine but the store's types (the outbox writes inside a store transaction).",
      from: { path: `${SRC}/core/` },
      to: { path: `${SRC}/`, pathNot: [`${SRC}/core/`, `${SRC}/store/(schema|port)\\.ts$`] },
    },
    {
      name: "ports-import-no-module",
      severity: "error",
      comment:
        "A port (store, bus, media, files) and its adapters know no module, no adapter above them and no composition root: the store is handed the migration sets.",
      from: { path: PORTS },
      to: { path: `${SRC}/(modules|http|ws|cli)/|${SRC}/(index|cli|main)\\.ts$` },
    },
    {
      name: "ports-do-not-import-each-other",
      severity: "error",
      comment: "Each port stands alone on core.",
      from: { path: `${SRC}/(store|bus|media|files|push)/` },
      to: { path: PORTS, pathNot: `${SRC}/$1/` },
    },
    {
      name: "helpers-import-no-module",
      severity: "error",
      comment:
        "http/ and ws/ are thin adapters: they get what they need from modules as functions (authenticate, findApp), never by import.",
      from: { path: `${SRC}/(http|ws)/` },
      to: { path: `${SRC}/(modules|cli)/|${SRC}/(index|cli|main)\\.ts$` },
    },
    {
      name: "modules-use-ports-not-adapters",
      severity: "error",
      comment:
        "A module gets its ports from createEngine; it imports a port's interface (and the store's dialect-neutral prepared-query helper), never an implementation (LiveKit, Redis, SQLite, S3, local disk).",
      from: { path: `${SRC}/modules/` },
      to: {
        path: `${PORTS}|${SRC}/core/rate-limit-redis\\.ts$`,
        pathNot: `${PORTS}(port|schema|migrations|hub|names|prepared)\\.ts$`,
      },
    },
    {
      name: "modules-do-not-import-the-root",
      severity: "error",
      comment: "Modules are built by the composition root; they never import it (nor the CLI).",
      from: { path: `${SRC}/modules/` },
      to: { path: `${SRC}/cli/|${SRC}/(index|cli|main)\\.ts$` },
    },
    {
      name: "module-through-its-index",
      severity: "error",
      comment: "A module reaches another module only through that module's index.ts (its descriptor and public exports).",
      from: { path: `${SRC}/modules/([^/]+)/` },
      to: {
        path: `${SRC}/modules/[^/]+/`,
        pathNot: [`${SRC}/modules/$1/`, `${SRC}/modules/[^/]+/index\\.ts$`],
      },
    },
    {
      name: "outside-through-the-index",
      severity: "error",
      comment: "Outside modules/ (the root, the CLI), a module is imported through its index.ts too.",
      from: { path: SRC, pathNot: `${SRC}/modules/` },
      to: { path: `${SRC}/modules/[^/]+/`, pathNot: `${SRC}/modules/[^/]+/index\\.ts$` },
    },
    {
      name: "module-contract-imports-no-module",
      severity: "error",
      comment: "modules/module.ts is the contract every module implements; it depends on none of them.",
      from: { path: `${SRC}/modules/module\\.ts$` },
      to: { path: `${SRC}/modules/[^/]+/` },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "Every import resolves (a typo'd path fails here, not at run time).",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    includeOnly: SRC,
    exclude: { path: "\\.test\\.ts$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: require("node:path").join(__dirname, "packages/engine/tsconfig.json") },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js"],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
