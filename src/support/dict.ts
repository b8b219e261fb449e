/** A map from names people choose (build args, config keys) to values: no prototype, so "__proto__" is a name like any other. */
export function dict<V = string>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}
