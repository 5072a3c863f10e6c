"""After keras.io examples/graph/gnn_citations: node classification with a graph neural
network written with ``keras.ops`` (``take`` to gather neighbours, ``unsorted_segment_*``
and ``segment_*`` message passing), a custom model holding the graph as attributes and
calling it on node indices. Data: a seeded Cora-like citation graph (corpus_data);
features only (a plain feed-forward baseline) versus the graph model, whose every
trainable weight must learn (keras.utils.normalize once cut the gradient in shendu)."""

import keras
import numpy as np
from corpus_data import citation_graph
from keras import layers, ops

keras.utils.set_random_seed(0)

node_features, labels, citations = citation_graph()
num_classes = int(labels.max()) + 1
order = np.random.default_rng(1).permutation(len(labels))
train_idx, test_idx = order[: len(order) // 2], order[len(order) // 2 :]

hidden_units = [32, 32]
learning_rate = 0.01
dropout_rate = 0.5
num_epochs = 60
batch_size = 64


def run_experiment(model, x_train, y_train):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
    )
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_acc", patience=20, restore_best_weights=True
    )
    return model.fit(
        x=x_train,
        y=y_train,
        epochs=num_epochs,
        batch_size=batch_size,
        validation_split=0.15,
        callbacks=[early_stopping],
        verbose=0,
    )


def create_ffn(hidden_units, dropout_rate, name=None):
    fnn_layers = []
    for units in hidden_units:
        fnn_layers.append(layers.BatchNormalization())
        fnn_layers.append(layers.Dropout(dropout_rate))
        fnn_layers.append(layers.Dense(units, activation="gelu"))
    return keras.Sequential(fnn_layers, name=name)


def create_baseline_model(hidden_units, num_classes, dropout_rate=0.2):
    inputs = layers.Input(shape=(node_features.shape[1],), name="input_features")
    x = create_ffn(hidden_units, dropout_rate, name="ffn_block1")(inputs)
    for block_idx in range(4):
        x1 = create_ffn(hidden_units, dropout_rate, name=f"ffn_block{block_idx + 2}")(x)
        x = layers.Add(name=f"skip_connection{block_idx + 2}")([x, x1])
    logits = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs=inputs, outputs=logits, name="baseline")


class GraphConvLayer(layers.Layer):
    def __init__(
        self,
        hidden_units,
        dropout_rate=0.2,
        aggregation_type="mean",
        combination_type="concat",
        normalize=False,
        *args,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.aggregation_type = aggregation_type
        self.combination_type = combination_type
        self.normalize = normalize
        self.ffn_prepare = create_ffn(hidden_units, dropout_rate)
        if self.combination_type == "gru":
            self.update_fn = layers.GRU(
                units=hidden_units,
                activation="tanh",
                recurrent_activation="sigmoid",
                dropout=dropout_rate,
                return_state=True,
                recurrent_dropout=dropout_rate,
            )
        else:
            self.update_fn = create_ffn(hidden_units, dropout_rate)

    def prepare(self, node_representations, weights=None):
        messages = self.ffn_prepare(node_representations)
        if weights is not None:
            messages = messages * ops.expand_dims(weights, -1)
        return messages

    def aggregate(self, node_indices, neighbour_messages, node_representations):
        num_nodes = node_representations.shape[0]
        if self.aggregation_type == "sum":
            aggregated_message = ops.segment_sum(
                neighbour_messages, node_indices, num_segments=num_nodes
            )
        elif self.aggregation_type == "mean":
            total = ops.segment_sum(neighbour_messages, node_indices, num_segments=num_nodes)
            count = ops.segment_sum(
                ops.ones_like(neighbour_messages[:, :1]), node_indices, num_segments=num_nodes
            )
            aggregated_message = total / ops.maximum(count, 1.0)
        elif self.aggregation_type == "max":
            aggregated_message = ops.segment_max(
                neighbour_messages, node_indices, num_segments=num_nodes
            )
        else:
            raise ValueError(f"Invalid aggregation type: {self.aggregation_type}.")
        return aggregated_message

    def update(self, node_representations, aggregated_messages):
        if self.combination_type == "gru":
            h = ops.stack([node_representations, aggregated_messages], axis=1)
        elif self.combination_type == "concat":
            h = ops.concatenate([node_representations, aggregated_messages], axis=1)
        elif self.combination_type == "add":
            h = node_representations + aggregated_messages
        else:
            raise ValueError(f"Invalid combination type: {self.combination_type}.")
        node_embeddings = self.update_fn(h)
        if self.combination_type == "gru":
            node_embeddings = ops.unstack(node_embeddings, axis=1)[-1]
        if self.normalize:
            node_embeddings = keras.utils.normalize(node_embeddings, axis=-1, order=2)
        return node_embeddings

    def call(self, inputs):
        node_representations, edges, edge_weights = inputs
        node_indices, neighbour_indices = edges[0], edges[1]
        neighbour_representations = ops.take(node_representations, neighbour_indices, axis=0)
        neighbour_messages = self.prepare(neighbour_representations, edge_weights)
        aggregated_messages = self.aggregate(
            node_indices, neighbour_messages, node_representations
        )
        return self.update(node_representations, aggregated_messages)


class GNNNodeClassifier(keras.Model):
    def __init__(
        self,
        graph_info,
        num_classes,
        hidden_units,
        aggregation_type="sum",
        combination_type="concat",
        dropout_rate=0.2,
        normalize=True,
        *args,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        node_features, edges, edge_weights = graph_info
        self.node_features = node_features
        self.edges = edges
        self.edge_weights = edge_weights
        if self.edge_weights is None:
            self.edge_weights = ops.ones(shape=edges.shape[1])
        self.edge_weights = self.edge_weights / ops.sum(self.edge_weights)
        self.preprocess = create_ffn(hidden_units, dropout_rate, name="preprocess")
        self.conv1 = GraphConvLayer(
            hidden_units,
            dropout_rate,
            aggregation_type,
            combination_type,
            normalize,
            name="graph_conv1",
        )
        self.conv2 = GraphConvLayer(
            hidden_units,
            dropout_rate,
            aggregation_type,
            combination_type,
            normalize,
            name="graph_conv2",
        )
        self.postprocess = create_ffn(hidden_units, dropout_rate, name="postprocess")
        self.compute_logits = layers.Dense(units=num_classes, name="logits")

    def call(self, input_node_indices):
        x = self.preprocess(self.node_features)
        x1 = self.conv1((x, self.edges, self.edge_weights))
        x = x1 + x
        x2 = self.conv2((x, self.edges, self.edge_weights))
        x = x2 + x
        x = self.postprocess(x)
        node_embeddings = ops.take(x, ops.squeeze(input_node_indices), axis=0)
        return self.compute_logits(node_embeddings)


baseline = create_baseline_model(hidden_units, num_classes, dropout_rate)
run_experiment(baseline, node_features[train_idx], labels[train_idx])
_, baseline_accuracy = baseline.evaluate(node_features[test_idx], labels[test_idx], verbose=0)

edges = ops.convert_to_tensor(citations, dtype="int32")
edge_weights = ops.ones(shape=citations.shape[1])
graph_info = (ops.convert_to_tensor(node_features), edges, edge_weights)
gnn_model = GNNNodeClassifier(
    graph_info=graph_info,
    num_classes=num_classes,
    hidden_units=hidden_units,
    dropout_rate=dropout_rate,
    name="gnn_model",
)
print("GNN output shape:", gnn_model(np.array([1, 10, 100])).shape)
initial = [ops.convert_to_numpy(w).copy() for w in gnn_model.trainable_weights]
run_experiment(gnn_model, train_idx, labels[train_idx])
# every trainable weight learns (message passing carries the gradient to each layer)
unchanged = sum(
    bool(np.array_equal(ops.convert_to_numpy(w), w0))
    for w, w0 in zip(gnn_model.trainable_weights, initial)
)
_, gnn_accuracy = gnn_model.evaluate(test_idx, labels[test_idx], verbose=0)

print("RESULT baseline_accuracy", float(baseline_accuracy))
print("RESULT gnn_accuracy", float(gnn_accuracy))
print("RESULT trainable_weights", len(initial))
print("RESULT unchanged_weights", unchanged)
