export { LABS } from './labs';
export type { Lab, LabResult, LabTarget } from './lab';
export { resendNewOrder } from './resend';
export { systemTarget } from './target';
