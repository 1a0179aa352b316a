export { createHttpApp, startHttpFace, type HttpFace, type HttpFaceOptions, type ReadinessCheck, type ReadinessResult } from './server.js';
