// Small inline icons: glyphs such as ⊕ or ⧉ are missing from many fonts.

const props = { viewBox: '0 0 16 16', width: 14, height: 14, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.6, 'stroke-linecap': 'round', 'aria-hidden': true } as const;

export const PlusIcon = () => (
  <svg {...props}>
    <circle cx="8" cy="8" r="6" />
    <path d="M8 5.2v5.6M5.2 8h5.6" />
  </svg>
);
export const MinusIcon = () => (
  <svg {...props}>
    <circle cx="8" cy="8" r="6" />
    <path d="M5.2 8h5.6" />
  </svg>
);
export const ColumnIcon = () => (
  <svg {...props}>
    <rect x="2" y="2.5" width="12" height="11" rx="1.5" />
    <path d="M6 2.5v11M10 2.5v11" />
  </svg>
);
export const CopyIcon = () => (
  <svg {...props}>
    <rect x="5" y="5" width="8.5" height="8.5" rx="1.5" />
    <path d="M11 5V3.5A1.5 1.5 0 0 0 9.5 2h-6A1.5 1.5 0 0 0 2 3.5v6A1.5 1.5 0 0 0 3.5 11H5" />
  </svg>
);
export const CheckIcon = () => (
  <svg {...props}>
    <path d="M3 8.5l3 3 7-7" />
  </svg>
);
