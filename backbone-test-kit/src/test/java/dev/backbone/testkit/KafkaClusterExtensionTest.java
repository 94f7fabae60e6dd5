package dev.backbone.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class KafkaClusterExtensionTest {

  @Test
  void readsTheShapeFromTheTestClass() {
    assertThat(KafkaClusterExtension.shapeOf(ThreeRacks.class))
        .isEqualTo(new ClusterShape(3, List.of("a", "b", "c")));
  }

  @Test
  void findsTheAnnotationThroughAMetaAnnotationAndASuperclass() {
    assertThat(KafkaClusterExtension.shapeOf(MetaAnnotated.class))
        .isEqualTo(new ClusterShape(2, List.of()));
    assertThat(KafkaClusterExtension.shapeOf(InheritsThreeRacks.class))
        .isEqualTo(new ClusterShape(3, List.of("a", "b", "c")));
  }

  @Test
  void nestedClassesUseTheirOwnAnnotationElseTheEnclosingOne() {
    assertThat(KafkaClusterExtension.shapeOf(ThreeRacks.Inner.class))
        .isEqualTo(new ClusterShape(3, List.of("a", "b", "c")));
    assertThat(KafkaClusterExtension.shapeOf(ThreeRacks.SingleInside.class))
        .isEqualTo(ClusterShape.defaultShape());
  }

  @Test
  void withoutTheAnnotationTheClusterHasOneBroker() {
    assertThat(KafkaClusterExtension.shapeOf(KafkaClusterExtensionTest.class))
        .isEqualTo(new ClusterShape(1, List.of()));
  }

  @BackboneKafkaCluster(
      brokers = 3,
      racks = {"a", "b", "c"})
  static class ThreeRacks {
    @Nested
    class Inner {}

    @Nested
    @BackboneKafkaCluster
    class SingleInside {}
  }

  static class InheritsThreeRacks extends ThreeRacks {}

  @Retention(RetentionPolicy.RUNTIME)
  @BackboneKafkaCluster(brokers = 2)
  @interface TwoBrokers {}

  @TwoBrokers
  static class MetaAnnotated {}
}
