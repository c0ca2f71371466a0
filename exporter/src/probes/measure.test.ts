import { encodeText } from '../exposition.js';
import { parsePingLine, ProbeStats } from './measure.js';

describe('probe bookkeeping', () => {
  it('reads iputils ping lines: replies, unanswered probes, unreachable', () => {
    expect(
      parsePingLine('[1763780000.123456] 64 bytes from 10.213.1.2: icmp_seq=7 ttl=64 time=40.8 ms'),
    ).toEqual({ seq: 7, rttMs: 40.8 });
    expect(parsePingLine('[1763780001.123456] no answer yet for icmp_seq=8')).toEqual({ seq: 8 });
    expect(parsePingLine('[1763780002.1] From 10.213.1.1 icmp_seq=9 Destination Host Unreachable')).toEqual({
      seq: 9,
    });
    expect(parsePingLine('PING 10.213.1.2 (10.213.1.2) 56(84) bytes of data.')).toBeUndefined();
  });

  it('keeps a cumulative histogram and sent/received counters', () => {
    const s = new ProbeStats();
    s.reply(0.004);
    s.reply(0.04);
    s.lost();
    const text = encodeText(s.families());
    expect(text).toContain('probe_rtt_seconds_bucket{le="0.005"} 1\n');
    expect(text).toContain('probe_rtt_seconds_bucket{le="0.05"} 2\n');
    expect(text).toContain('probe_rtt_seconds_bucket{le="+Inf"} 2\n');
    expect(text).toContain('probe_rtt_seconds_count 2\n');
    expect(text).toContain('probe_packets_sent_total 3\n');
    expect(text).toContain('probe_packets_received_total 2\n');
    expect(text).toContain('probe_success 0\n');
  });
});
