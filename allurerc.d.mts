// Types of allurerc.mjs for the TypeScript that reads its category names.

export declare const FAULT_NOT_OBSERVED: string;
export declare const DID_NOT_RECOVER: string;
export declare const STORE_DEFECT: string;
export declare const SUITE_ERROR: string;
declare const config: { readonly categories: unknown; readonly [key: string]: unknown };
export default config;
