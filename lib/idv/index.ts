/** The IDV handoff domain: workflows, ephemeral tokens, sessions, handoff links, console views. */

export * from "./console";
export * from "./handoff";
export * from "./images";
export * from "./sessions";
export * from "./sweeper";
export * from "./tokens";
export * from "./workflows";
