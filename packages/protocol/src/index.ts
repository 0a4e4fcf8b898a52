export * from "./artifacts";
export * from "./auth";
export * from "./bounds";
export * from "./common";
export * from "./errors";
export * from "./lineage";
export * from "./registry";
export * from "./runs";
