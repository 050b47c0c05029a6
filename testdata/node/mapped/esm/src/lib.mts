export function boom(n: number): never {
  throw new Error(`boom ${n}`);
}
