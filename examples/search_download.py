"""Find a model in the repository, download it with progress, load it and ask it something."""

import lmstudio_sync as lms


def show(update: lms.DownloadProgressUpdate) -> None:
    share = update.downloaded_bytes / update.total_bytes
    print(f"{share:6.1%} of {update.total_bytes / 1e6:.0f} MB")


with lms.Client() as client:
    results = client.repository.search_models("smollm2")
    print("Found:", ", ".join(result.name for result in results))
    option = results[0].get_download_options()[0]  # the recommended file comes first
    print(f"Downloading {option.name} ({option.quantization})")
    key = option.download(on_progress=show, on_finalize=lambda: print("Finalizing"))
    print("Downloaded as", key)
    model = client.llm.model(key)
    print("Model:", model.respond("Say hello in five words.").content)
