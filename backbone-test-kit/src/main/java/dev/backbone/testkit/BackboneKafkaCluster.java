package dev.backbone.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a test class a real KRaft Kafka cluster of the declared shape, injected as a {@link
 * TestKafkaCluster} parameter.
 *
 * <pre>{@code
 * @BackboneKafkaCluster(brokers = 3, racks = {"rack-a", "rack-b", "rack-c"})
 * class StandbyPlacementIT {
 *   @Test
 *   void placesStandbysInOtherRacks(TestKafkaCluster kafka) { ... }
 * }
 * }</pre>
 *
 * <p>Every test class in the JVM that declares the same shape gets the same cluster; it stops when
 * the test run ends. A {@code @Nested} class without its own annotation uses its enclosing class's
 * cluster; the annotation is inherited by subclasses.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@ExtendWith(KafkaClusterExtension.class)
public @interface BackboneKafkaCluster {
  /** How many brokers; the first is also the only KRaft controller. At least 1. */
  int brokers() default 1;

  /**
   * The {@code broker.rack} of each broker, in broker order; empty (the default) leaves racks
   * unset, otherwise exactly one entry per broker.
   */
  String[] racks() default {};
}
