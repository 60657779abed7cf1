/** The pure OCI spec module: digests, names, media types and manifests, plus the error catalogue. */
export * from './errors.js';
export * from './digest.js';
export * from './reference.js';
export * from './media-types.js';
export * from './manifest.js';
