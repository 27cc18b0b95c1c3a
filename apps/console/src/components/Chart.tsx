import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLOURS = ['#1d4ed8', '#b91c1c', '#047857', '#a16207', '#7c3aed', '#be185d', '#0e7490', '#4b5563'];

/** One uPlot line chart: x is unix seconds, one line per series; resizes with its container. */
export function Chart({ title, x, series }: { title: string; x: number[]; series: { label: string; values: (number | null)[] }[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join('\u0000');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      title,
      width: Math.max(280, el.clientWidth),
      height: 220,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
      axes: [{}, { size: 50 }],
      legend: { live: false },
    };
    plot.current = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of series changes; new points go through setData below.
  }, [title, shape]);

  useEffect(() => {
    plot.current?.setData([x, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [x, series]);

  return <div className="chart" ref={box} role="img" aria-label={`${title}: ${series.map((s) => `${s.label} latest ${s.values[s.values.length - 1] ?? 'none'}`).join(', ')}`} />;
}
