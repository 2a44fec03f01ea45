export * from "./auth";
export * from "./console";
export * from "./instances";
export { looksLike, newDeviceSecret } from "./secrets";
