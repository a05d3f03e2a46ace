import { describe, expect, it } from 'vitest';
import { licenseName } from './licenses';

describe('licenseName', () => {
  it('names known SKUs, then the part number, then a short id', () => {
    expect(licenseName({ skuId: '05E9A617-0261-4CEE-BB44-138D3EF5D965' })).toBe('Microsoft 365 E3');
    expect(licenseName({ skuId: '00000000-1111-2222-3333-444444444444', skuPartNumber: 'POWER_BI_PRO' })).toBe('POWER_BI_PRO');
    expect(licenseName({ skuId: '00000000-1111-2222-3333-444444444444' })).toBe('SKU 00000000…');
  });
});
