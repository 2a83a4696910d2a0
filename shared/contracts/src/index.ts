export * from './primitives';
export * from './messages';
export * from './catalog';
export * from './envelope';
export * from './consumers';
export * from './http';
