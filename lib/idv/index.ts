/** The IDV handoff domain: workflows, ephemeral tokens, sessions, handoff links, console views. */
export * from "./tokens";
export * from "./images";
export * from "./workflows";
export * from "./sessions";
export * from "./handoff";
export * from "./console";
export * from "./sweeper";
