package dev.backbone.testkit;

import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Injects a {@link TestKafkaCluster} into test constructors, lifecycle methods ({@code @BeforeAll},
 * {@code @BeforeEach}, ...) and test methods. Usually registered through {@link
 * BackboneKafkaCluster}, which also declares the cluster's shape; registered directly with
 * {@code @ExtendWith} it gives a one-broker cluster.
 *
 * <p>Clusters live in the store of the root extension context, keyed by shape: the first test that
 * asks for a shape starts the cluster, every later test class in the same JVM asking for the same
 * shape gets the same one, and JUnit closes them all when the test run ends. Starting a KRaft
 * cluster takes seconds; sharing it is what keeps a suite of integration tests fast.
 */
public final class KafkaClusterExtension implements ParameterResolver {
  private static final Namespace NAMESPACE = Namespace.create(KafkaClusterExtension.class);

  /** Used by JUnit when it registers the extension. */
  public KafkaClusterExtension() {}

  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == TestKafkaCluster.class;
  }

  @Override
  public TestKafkaCluster resolveParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    ClusterShape shape = shapeOf(extensionContext.getRequiredTestClass());
    return extensionContext
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(shape, SharedKafkaCluster::start, SharedKafkaCluster.class)
        .cluster();
  }

  /**
   * The annotation nearest to the test class: on the class itself (directly, through a
   * meta-annotation or inherited), else on an enclosing class, for {@code @Nested} tests.
   */
  static ClusterShape shapeOf(Class<?> testClass) {
    for (Class<?> c = testClass; c != null; c = c.getEnclosingClass()) {
      Optional<BackboneKafkaCluster> annotation =
          AnnotationSupport.findAnnotation(c, BackboneKafkaCluster.class);
      if (annotation.isPresent()) {
        return ClusterShape.of(annotation.get());
      }
    }
    return ClusterShape.defaultShape();
  }
}
