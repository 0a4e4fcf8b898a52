export * from "./artifacts";
export * from "./auth";
export * from "./common";
export * from "./errors";
export * from "./lineage";
export * from "./openlineage";
export * from "./registry";
export * from "./runs";
