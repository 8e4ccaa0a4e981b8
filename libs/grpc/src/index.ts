export * from './context';
export * from './errors';
export * from './server';
export * from './client';
export { status, Metadata, type ServiceError } from '@grpc/grpc-js';
