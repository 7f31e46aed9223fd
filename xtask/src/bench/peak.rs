//! A probe of the machine's single-precision FMA peak: every core runs a tight loop
//! of independent fused multiply-adds on the widest vectors it has. GEMM figures
//! are then reported as a fraction of what this machine can do at most, which
//! compares across machines far better than raw GFLOP/s.

use std::time::Instant;

/// Independent accumulators per thread: enough to cover FMA latency (4–5 cycles)
/// times the number of FMA pipes (2), so the loop is throughput-bound.
const CHAINS: usize = 16;

/// The widest FMA this CPU offers, detected at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    Avx512,
    Avx2,
    Scalar,
}

impl Isa {
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return Isa::Avx2;
            }
        }
        Isa::Scalar
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "AVX-512 FMA",
            Isa::Avx2 => "AVX2 FMA",
            Isa::Scalar => "scalar mul_add",
        }
    }

    /// f32 lanes per vector.
    fn lanes(self) -> usize {
        match self {
            Isa::Avx512 => 16,
            Isa::Avx2 => 8,
            Isa::Scalar => 1,
        }
    }
}

/// Runs `iterations` rounds of `CHAINS` vector FMAs; returns a value that depends
/// on every result, so the compiler cannot drop the work.
#[allow(unsafe_code)]
fn run_chains(isa: Isa, iterations: u64) -> f32 {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::detect` returned Avx512 only after confirming avx512f at run time.
        Isa::Avx512 => unsafe { x86::avx512(iterations) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::detect` returned Avx2 only after confirming avx2 and fma at run time.
        Isa::Avx2 => unsafe { x86::avx2(iterations) },
        _ => {
            let mut acc = [1.0f32; CHAINS];
            for _ in 0..iterations {
                for a in &mut acc {
                    *a = a.mul_add(0.999_999, 1e-7);
                }
            }
            acc.iter().sum()
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::x86_64::*;

    use super::CHAINS;

    #[target_feature(enable = "avx512f")]
    pub unsafe fn avx512(iterations: u64) -> f32 {
        let mut acc = [_mm512_set1_ps(1.0); CHAINS];
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        for _ in 0..iterations {
            for x in &mut acc {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        acc.iter().map(|&x| _mm512_reduce_add_ps(x)).sum()
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn avx2(iterations: u64) -> f32 {
        let mut acc = [_mm256_set1_ps(1.0); CHAINS];
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        for _ in 0..iterations {
            for x in &mut acc {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let mut lanes = [0.0f32; 8];
        let mut total = 0.0;
        for x in acc {
            // SAFETY: `lanes` holds exactly the 8 floats one __m256 stores.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), x) };
            total += lanes.iter().sum::<f32>();
        }
        total
    }
}

/// The measured peak in GFLOP/s on `threads` threads (best of a few runs).
pub fn measure(isa: Isa, threads: usize) -> f64 {
    let iterations: u64 = if isa == Isa::Scalar { 20_000_000 } else { 50_000_000 };
    let flops_per_thread = (2 * CHAINS * isa.lanes()) as f64 * iterations as f64;
    let mut best = 0.0f64;
    for _ in 0..3 {
        let start = Instant::now();
        let sink: f32 = std::thread::scope(|scope| {
            let handles: Vec<_> =
                (0..threads).map(|_| scope.spawn(move || run_chains(isa, iterations))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
        });
        let seconds = start.elapsed().as_secs_f64();
        std::hint::black_box(sink);
        best = best.max(flops_per_thread * threads as f64 / seconds / 1e9);
    }
    best
}
