import { describe, expect, it } from 'vitest';
import { activeFilterCount, cleanFilter, describeFilter, fileViewFromSearch, searchFromFileView, sharedFilesQuery } from './filters';

describe('file view ⇄ URL', () => {
  const cases: { name: string; query: string; filter: object; order?: object | null }[] = [
    { name: 'empty', query: '', filter: {} },
    {
      name: 'anonymous edit links',
      query: 'scope=ANONYMOUS&link=edit',
      filter: { sharedScope: ['ANONYMOUS'], linkType: ['edit'] },
    },
    {
      name: 'several scopes, booleans and search',
      query: 'scope=ANONYMOUS%2CUSERS&external=yes&expiry=no&password=no&q=budget+2024',
      filter: {
        sharedScope: ['ANONYMOUS', 'USERS'],
        external: true,
        hasExpiry: false,
        hasPassword: false,
        search: 'budget 2024',
      },
    },
    {
      name: 'owner, drive, dates and sort',
      query: 'owner=VXNlcjox&drive=RHJpdmU6MQ%3D%3D&modifiedAfter=2024-01-01&modifiedBefore=2024-01-31&sort=NAME%3AASC',
      filter: {
        ownerId: 'VXNlcjox',
        driveId: 'RHJpdmU6MQ==',
        modifiedAfter: '2024-01-01T00:00:00.000Z',
        modifiedBefore: '2024-02-01T00:00:00.000Z',
      },
      order: { field: 'NAME', direction: 'ASC' },
    },
    { name: 'all items', query: 'all=yes', filter: { sharedOnly: false } },
  ];
  for (const c of cases) {
    it(`parses ${c.name}`, () => {
      const v = fileViewFromSearch(new URLSearchParams(c.query));
      expect(v.filter).toEqual(c.filter);
      expect(v.order).toEqual(c.order ?? null);
    });
    it(`round-trips ${c.name}`, () => {
      const v = fileViewFromSearch(new URLSearchParams(c.query));
      const back = searchFromFileView(v);
      expect(fileViewFromSearch(back)).toEqual(v);
      expect(back.toString()).toBe(new URLSearchParams(c.query).toString());
    });
  }

  it('drops values the API would reject', () => {
    const v = fileViewFromSearch(
      new URLSearchParams('scope=EVERYONE,ANONYMOUS&link=delete&external=maybe&modifiedAfter=yesterday&sort=OWNER:UP'),
    );
    expect(v.filter).toEqual({ sharedScope: ['ANONYMOUS'] });
    expect(v.order).toBeNull();
  });

  it('keeps modifiedBefore inclusive of the picked day across a month end', () => {
    const v = fileViewFromSearch(new URLSearchParams('modifiedBefore=2024-02-29'));
    expect(v.filter.modifiedBefore).toBe('2024-03-01T00:00:00.000Z');
    expect(searchFromFileView(v).get('modifiedBefore')).toBe('2024-02-29');
  });

  it('trims blank search and empty lists from the API filter', () => {
    expect(cleanFilter({ search: '', sharedScope: [], external: false, linkType: null })).toEqual({ external: false });
    expect(activeFilterCount({ sharedScope: ['USERS'], search: '', sharedOnly: true })).toBe(1);
  });
});

describe('describeFilter', () => {
  it('says the filter in words', () => {
    expect(describeFilter({})).toBe('every shared item');
    expect(describeFilter({ sharedScope: ['ANONYMOUS'], linkType: ['edit'], hasExpiry: false, search: 'plan' })).toBe(
      'shared with anyone links, edit links, without expiry, name contains “plan”',
    );
  });
});

describe('what Shared files asks for', () => {
  it('lists shared items, newest first, unless the address says otherwise', () => {
    expect(sharedFilesQuery(fileViewFromSearch(new URLSearchParams('')))).toEqual({
      filter: { sharedOnly: true },
      order: { field: 'MODIFIED_AT', direction: 'DESC' },
    });
    const q = sharedFilesQuery(fileViewFromSearch(new URLSearchParams('all=yes&sort=NAME%3AASC&scope=ANONYMOUS')));
    expect(q.order).toEqual({ field: 'NAME', direction: 'ASC' });
    expect(q.filter.sharedScope).toEqual(['ANONYMOUS']);
    expect(q.filter.sharedOnly).toBe(false);
  });
});
