// autocannon ships without type declarations (and @types/autocannon is not installed).
declare module "autocannon";
