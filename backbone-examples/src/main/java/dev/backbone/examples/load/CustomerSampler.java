package dev.backbone.examples.load;

/**
 * Picks a customer index in {@code [0, customers)} from a uniform random number: Zipf-distributed
 * with exponent {@code skew} (index 0 the most popular), uniform when the skew is 0.
 *
 * <p>For a positive skew the cumulative distribution is computed once (O(N) time, 8 bytes per
 * customer: 24 MB for three million) and each sample is a binary search, O(log N).
 */
final class CustomerSampler {

  private final int customers;
  private final double[] cdf; // null when uniform

  private CustomerSampler(int customers, double[] cdf) {
    this.customers = customers;
    this.cdf = cdf;
  }

  static CustomerSampler of(int customers, double skew) {
    if (customers < 1) {
      throw new IllegalArgumentException("customers must be >= 1, got " + customers);
    }
    if (skew == 0) {
      return new CustomerSampler(customers, null);
    }
    double[] cdf = new double[customers];
    double sum = 0;
    for (int i = 0; i < customers; i++) {
      sum += 1.0 / Math.pow(i + 1, skew);
      cdf[i] = sum;
    }
    for (int i = 0; i < customers; i++) {
      cdf[i] /= sum;
    }
    cdf[customers - 1] = 1.0; // no gap at the top from rounding: every u < 1 finds an index
    return new CustomerSampler(customers, cdf);
  }

  /** The index for {@code u} in {@code [0, 1)}. */
  int sample(double u) {
    if (cdf == null) {
      return Math.min((int) (u * customers), customers - 1); // u * N may round up to N
    }
    int low = 0;
    int high = customers - 1;
    while (low < high) { // first index whose cumulative probability exceeds u
      int mid = (low + high) >>> 1;
      if (cdf[mid] > u) {
        high = mid;
      } else {
        low = mid + 1;
      }
    }
    return low;
  }
}
