// Stands in for source-map in the bundle: Handlebars only uses it for compiler source maps, and
// falls back to its own small SourceNode without it; tags never need a source map.
export {};
