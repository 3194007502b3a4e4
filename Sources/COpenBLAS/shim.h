#pragma once
#include <cblas.h>
/// OpenBLAS thread control (declared in openblas_config.h / cblas.h).

/// LAPACK's single-precision divide-and-conquer SVD (OpenBLAS ships LAPACK; numpy.linalg.svd calls the same
/// routine), Fortran calling convention: column-major arrays, every argument by pointer.
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s, float *u,
             const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork, int *iwork, int *info);
