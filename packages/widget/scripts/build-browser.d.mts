/** Where the engine looks for the browser build (`packages/widget/dist/browser`). */
export declare const BROWSER_DIST: string;
/** Bundles utd-widget.js and the operator inbox into `outDir`; resolves to it. */
export declare function buildBrowser(outDir?: string): Promise<string>;
