import { pppActive, sessionCounts } from './ppp.js';

const options = { pppSessionDetail: false, pppSessionLimit: 10, dynamicQueues: false };

describe('PPP session counts', () => {
  const secrets = [
    { name: 'a', profile: 'home-10M', service: 'pppoe' },
    { name: 'b', profile: 'home-20M', service: 'pppoe' },
    { name: 'c', profile: 'biz-50M', service: 'any' },
  ];

  it('counts sessions by service and profile, with 0 for every profile the secrets name', () => {
    expect(sessionCounts([{ name: 'a', service: 'pppoe' }], secrets)).toEqual([
      { labels: { service: 'pppoe', profile: 'home-10M' }, value: 1 },
      { labels: { service: 'pppoe', profile: 'home-20M' }, value: 0 },
      { labels: { service: 'pppoe', profile: 'biz-50M' }, value: 0 },
    ]);
  });

  it('keeps the router total present at 0 when nobody is connected, whatever the secrets say', () => {
    expect(sessionCounts([], [{ name: 'c', profile: 'biz-50M', service: 'any' }])).toEqual([
      { labels: { service: 'any', profile: 'biz-50M' }, value: 0 },
    ]);
    expect(sessionCounts([], [])).toEqual([{ labels: { service: '', profile: '' }, value: 0 }]);
  });

  it('exports no session count at all when /ppp/active failed, and counts without profiles when /ppp/secret did', () => {
    expect(pppActive.collect([undefined, secrets], options)).toEqual([]);
    const [family] = pppActive.collect([[{ name: 'a', service: 'pppoe' }], undefined], options);
    expect(family?.samples).toEqual([{ labels: { service: 'pppoe', profile: '' }, value: 1 }]);
  });
});
