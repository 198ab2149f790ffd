/** The doctor's printed table, as test:external reads it: every row, and the skips that name no setting. */
import { expect, test } from './support/test';
import { doctorTable, readDoctorTable } from '../../helpers/doctor';

test.describe('the doctor table', { tag: '@self' }, () => {
  test("should find a skip that names no setting in the doctor's printed table", () => {
    const printed = doctorTable([
      { family: 'smoke', test: 'the health checks' },
      { family: 'security', test: 'refreshes per user', skips: 'REFRESH_RATE_LIMIT not set: the limit the suite counts' },
      { family: 'db-outage', test: 'the link goes down', skips: 'no proxy is configured' },
    ]);
    const read = readDoctorTable(`# Configuration: valid\n\n${printed}\n`);
    expect(read.rows, 'every test is a row, the header is not').toHaveLength(3);
    expect(read.skips).toHaveLength(2);
    expect(read.unnamed, 'the skip without a setting is found').toEqual([
      '| db-outage | the link goes down | skips: no proxy is configured |',
    ]);
    expect(readDoctorTable('doctor: could not start').rows, 'no table, no rows').toEqual([]);
  });
});
