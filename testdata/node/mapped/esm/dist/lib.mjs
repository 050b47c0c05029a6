export function boom(n) {
    throw new Error(`boom ${n}`);
}
//# sourceMappingURL=lib.mjs.map