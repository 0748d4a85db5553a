import type { NextConfig } from "next";

// pulselock needs no setting here: it builds with Turbopack and with webpack,
// for the Node and the Edge runtime alike.
const nextConfig: NextConfig = {};

export default nextConfig;
