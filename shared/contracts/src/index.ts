export * from './primitives';
export * from './messages';
export * from './catalog';
export * from './envelope';
