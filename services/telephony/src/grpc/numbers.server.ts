import { DniServiceService, NumberServiceService } from '@crm/contracts/crm/telephony/v1/telephony';
import { registration, type ServiceRegistration } from '@crm/grpc';
import type { TelephonyContext } from '../context';
import { notYet } from '../not-yet';

export const NUMBER_SERVICE_NAME = 'crm.telephony.v1.NumberService';
export const DNI_SERVICE_NAME = 'crm.telephony.v1.DniService';

/** crm.telephony.v1.NumberService: translation only (the work is in ../numbers/ and ../dni/). */
export function numbersServer(ctx: TelephonyContext): ServiceRegistration {
  void ctx;
  return registration(NUMBER_SERVICE_NAME, NumberServiceService, {
    createNumber: notYet('CreateNumber'),
    updateNumber: notYet('UpdateNumber'),
    getNumber: notYet('GetNumber'),
    listNumbers: notYet('ListNumbers'),
    archiveNumber: notYet('ArchiveNumber'),
    createPool: notYet('CreatePool'),
    updatePool: notYet('UpdatePool'),
    getPool: notYet('GetPool'),
    listPools: notYet('ListPools'),
    getPoolStats: notYet('GetPoolStats'),
  });
}

/** crm.telephony.v1.DniService (called with tenant `platform`; the pool's public id says whose). */
export function dniServer(ctx: TelephonyContext): ServiceRegistration {
  void ctx;
  return registration(DNI_SERVICE_NAME, DniServiceService, {
    lendNumber: notYet('LendNumber'),
    heartbeat: notYet('Heartbeat'),
  });
}
