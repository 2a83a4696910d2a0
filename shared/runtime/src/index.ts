export * from './config';
export * from './logger';
export * from './lifecycle';
export * from './wait';
export * from './local-defaults';
export * from './prometheus-text';
export * from './pairs';
