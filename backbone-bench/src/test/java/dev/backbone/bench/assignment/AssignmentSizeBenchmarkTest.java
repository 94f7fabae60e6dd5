package dev.backbone.bench.assignment;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class AssignmentSizeBenchmarkTest {
  @Test
  void hostMapsMakeStockAssignmentsGrowWithTheGroupWhileBackbonesStayPerMember() {
    AssignmentSizeBenchmark.Sizes small = AssignmentSizeBenchmark.simulate(spec(10, 60));
    AssignmentSizeBenchmark.Sizes large = AssignmentSizeBenchmark.simulate(spec(40, 240));

    assertThat(large.stockBytes()).isGreaterThan(10 * small.stockBytes());
    assertThat(large.backboneAssignmentBytes()).isLessThan(6 * small.backboneAssignmentBytes());
    assertThat(large.ratio()).isGreaterThan(small.ratio());
    assertThat(large.consumers()).isEqualTo(40 * 3);
    assertThat(large.tasks()).isEqualTo(2 * 240);
  }

  @Test
  void theReportEndsWithTheJsonLineTheIssueAsksFor() {
    AssignmentSizeBenchmark.Sizes sizes = AssignmentSizeBenchmark.simulate(spec(5, 30));

    String json = AssignmentSizeBenchmark.report(spec(5, 30), sizes, List.of()).json();

    assertThat(json).contains("\"stock_bytes\":", "\"backbone_bytes\":", "\"ratio\":");
  }

  private static AssignmentSizeBenchmark.Spec spec(int nodes, int partitions) {
    return new AssignmentSizeBenchmark.Spec(nodes, 3, partitions, 2, 1, 0, 1, Duration.ZERO);
  }
}
