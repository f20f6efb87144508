/** Process entry point for `utd` (the bin script loads the compiled copy of this file). */
import { main } from "./cli.js";

process.exitCode = await main(process.argv.slice(2));
