import { describe, expect, it } from 'vitest';
import { licenseName } from './licenses';

describe('licenseName', () => {
  it('shows the synced part number, or the SKU id when there is none', () => {
    expect(licenseName({ skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965', skuPartNumber: 'SPE_E3' })).toBe('SPE_E3');
    // No table of well-known SKUs: an id the sync could not name stays an id.
    expect(licenseName({ skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965', skuPartNumber: null })).toBe('05e9a617-0261-4cee-bb44-138d3ef5d965');
    expect(licenseName({ skuId: '00000000-1111-2222-3333-444444444444' })).toBe('00000000-1111-2222-3333-444444444444');
  });
});
