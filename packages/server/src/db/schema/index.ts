export * from "./access";
export * from "./artifacts";
export * from "./audit";
export * from "./auth";
export * from "./openlineage";
export * from "./projects";
export * from "./registry";
export * from "./runs";
